/*
 * The peer of bench/mosquitto_peer_bench.ts: mosquitto's default ACL check (as the broker of
 * Debian's mosquitto 2.0.11 runs it) over an acl_file, matching topics with libmosquitto's
 * mosquitto_topic_matches_sub. Written for the benchmark from mosquitto's documented
 * behaviour; built by the benchmark with gcc into a temporary directory.
 *
 *   mosquitto_peer [--no-alloc] ACL_FILE REQUESTS_FILE
 *
 * ACL_FILE holds `user <name>`, `topic [read|write|readwrite|deny] <topic>` and
 * `pattern [read|write|readwrite|deny] <topic>` lines (`%u` and `%c` in patterns). Each line
 * of REQUESTS_FILE is `r` (a subscriber's read) or `w` (a publish), username, client id and
 * topic, separated by tabs; an empty username or client id means the client has none.
 *
 * The check, per request: the client's own `user` list (found once per client, as the
 * broker does at connect), deny lines first, each matched against the topic; then, if there
 * are patterns, a client whose username or id holds `+` or `#` is denied; then every pattern
 * (deny lines first) with `%u` and `%c` substituted, in a buffer allocated per pattern as
 * mosquitto 2.0.11 does, or in one reused buffer with --no-alloc. The first matching deny
 * line denies, the first matching line granting the access allows, else the request is
 * denied. A pattern needing a username or client id the client lacks is skipped (mosquitto
 * skips `%u` patterns without a username; every MQTT client has an id).
 *
 * Commands on stdin, answers on stdout:
 *   check       one line of `1` (allowed) or `0` per request, in order
 *   round <ms>  decides the requests in a loop for at least <ms> milliseconds and prints
 *               `<decisions> <nanoseconds>`
 */

#define _POSIX_C_SOURCE 200809L
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCESS_NONE 0
#define ACCESS_READ 1
#define ACCESS_WRITE 2

struct line {
	char *topic;
	int access;
	int ucount;
	int ccount;
	size_t length;
	struct line *next;
};

struct user {
	char *name;
	struct line *lines;
	struct user *next;
};

struct request {
	int access;
	char *username; /* NULL when the client has none */
	char *id;       /* NULL when the client has none */
	char *topic;
	struct line *own; /* the client's `user` list, found once */
};

static struct user *users;
static struct line *patterns;
static bool allocate = true;
static char *scratch;
static size_t scratch_size;

static void fail(const char *message, const char *detail)
{
	fprintf(stderr, "mosquitto_peer: %s%s\n", message, detail ? detail : "");
	exit(2);
}

static char *copy(const char *text)
{
	char *out = strdup(text);
	if(!out) fail("out of memory", NULL);
	return out;
}

static int count_of(const char *topic, const char *placeholder)
{
	int count = 0;
	for(const char *at = strstr(topic, placeholder); at; at = strstr(at + 2, placeholder)) count++;
	return count;
}

/* Deny lines go first, as mosquitto keeps them; the others keep their order. */
static void append(struct line **list, struct line *line)
{
	if(line->access == ACCESS_NONE){
		struct line **at = list;
		while(*at && (*at)->access == ACCESS_NONE) at = &(*at)->next;
		line->next = *at;
		*at = line;
		return;
	}
	while(*list) list = &(*list)->next;
	*list = line;
}

static struct user *user_named(const char *name)
{
	for(struct user *user = users; user; user = user->next){
		if(!strcmp(user->name, name)) return user;
	}
	return NULL;
}

static void read_acl(const char *path)
{
	FILE *file = fopen(path, "r");
	if(!file) fail("cannot open ", path);
	char *buffer = NULL;
	size_t size = 0;
	ssize_t length;
	struct user *current = NULL;
	struct user *last_user = NULL;
	while((length = getline(&buffer, &size, file)) >= 0){
		while(length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r')) buffer[--length] = 0;
		if(length == 0 || buffer[0] == '#') continue;
		if(!strncmp(buffer, "user ", 5)){
			current = user_named(buffer + 5);
			if(!current){
				current = calloc(1, sizeof(*current));
				if(!current) fail("out of memory", NULL);
				current->name = copy(buffer + 5);
				if(last_user) last_user->next = current;
				else users = current;
				last_user = current;
			}
			continue;
		}
		bool pattern = !strncmp(buffer, "pattern ", 8);
		if(!pattern && strncmp(buffer, "topic ", 6)) fail("unknown acl line: ", buffer);
		char *rest = buffer + (pattern ? 8 : 6);
		char *space = strchr(rest, ' ');
		if(!space) fail("acl line without access: ", buffer);
		*space = 0;
		struct line *line = calloc(1, sizeof(*line));
		if(!line) fail("out of memory", NULL);
		if(!strcmp(rest, "read")) line->access = ACCESS_READ;
		else if(!strcmp(rest, "write")) line->access = ACCESS_WRITE;
		else if(!strcmp(rest, "readwrite")) line->access = ACCESS_READ | ACCESS_WRITE;
		else if(!strcmp(rest, "deny")) line->access = ACCESS_NONE;
		else fail("unknown access: ", rest);
		line->topic = copy(space + 1);
		line->length = strlen(line->topic);
		if(pattern){
			line->ucount = count_of(line->topic, "%u");
			line->ccount = count_of(line->topic, "%c");
			append(&patterns, line);
		}else{
			if(!current) fail("topic line before any user line: ", space + 1);
			append(&current->lines, line);
		}
	}
	free(buffer);
	fclose(file);
}

static char *field(char **cursor)
{
	char *start = *cursor;
	char *tab = strchr(start, '\t');
	if(tab){
		*tab = 0;
		*cursor = tab + 1;
	}else{
		*cursor = start + strlen(start);
	}
	return start;
}

static struct request *read_requests(const char *path, size_t *count)
{
	FILE *file = fopen(path, "r");
	if(!file) fail("cannot open ", path);
	size_t capacity = 1024;
	struct request *requests = malloc(capacity * sizeof(*requests));
	char *buffer = NULL;
	size_t size = 0;
	ssize_t length;
	*count = 0;
	while((length = getline(&buffer, &size, file)) >= 0){
		if(length > 0 && buffer[length - 1] == '\n') buffer[--length] = 0;
		if(length == 0) continue;
		if(*count == capacity){
			capacity *= 2;
			requests = realloc(requests, capacity * sizeof(*requests));
		}
		if(!requests) fail("out of memory", NULL);
		char *cursor = buffer;
		struct request *request = &requests[(*count)++];
		char *access = field(&cursor);
		char *username = field(&cursor);
		char *id = field(&cursor);
		request->access = access[0] == 'w' ? ACCESS_WRITE : ACCESS_READ;
		request->username = username[0] ? copy(username) : NULL;
		request->id = id[0] ? copy(id) : NULL;
		request->topic = copy(cursor);
		struct user *user = request->username ? user_named(request->username) : NULL;
		request->own = user ? user->lines : NULL;
	}
	free(buffer);
	fclose(file);
	return requests;
}

/* Fills `out` with the pattern's topic, `%u` and `%c` replaced. */
static void substitute(const struct line *line, const struct request *request, size_t ulen, size_t clen, char *out)
{
	const char *topic = line->topic;
	for(size_t i = 0; i < line->length; i++){
		if(topic[i] == '%' && i + 1 < line->length){
			if(topic[i + 1] == 'c' && request->id){
				memcpy(out, request->id, clen);
				out += clen;
				i++;
				continue;
			}
			if(topic[i + 1] == 'u' && request->username){
				memcpy(out, request->username, ulen);
				out += ulen;
				i++;
				continue;
			}
		}
		*out++ = topic[i];
	}
	*out = 0;
}

/* Whether mosquitto's default check allows the request. */
static bool allowed(const struct request *request)
{
	const char *topic = request->topic;
	bool result;
	for(const struct line *line = request->own; line; line = line->next){
		if(topic[0] == '$' && line->topic[0] != '$') continue;
		mosquitto_topic_matches_sub(line->topic, topic, &result);
		if(result){
			if(line->access == ACCESS_NONE) return false;
			if(request->access & line->access) return true;
		}
	}
	if(!patterns) return false;
	if(request->username && strpbrk(request->username, "+#")) return false;
	if(request->id && strpbrk(request->id, "+#")) return false;
	size_t ulen = request->username ? strlen(request->username) : 0;
	size_t clen = request->id ? strlen(request->id) : 0;
	for(const struct line *line = patterns; line; line = line->next){
		if((line->ucount && !request->username) || (line->ccount && !request->id)) continue;
		size_t length = line->length + (size_t)line->ucount * ulen + (size_t)line->ccount * clen;
		char *local;
		if(allocate){
			local = malloc(length + 1);
			if(!local) fail("out of memory", NULL);
		}else{
			if(length + 1 > scratch_size){
				scratch_size = 2 * (length + 1);
				scratch = realloc(scratch, scratch_size);
				if(!scratch) fail("out of memory", NULL);
			}
			local = scratch;
		}
		substitute(line, request, ulen, clen, local);
		mosquitto_topic_matches_sub(local, topic, &result);
		if(allocate) free(local);
		if(result){
			if(line->access == ACCESS_NONE) return false;
			if(request->access & line->access) return true;
		}
	}
	return false;
}

static long long now_ns(void)
{
	struct timespec time;
	clock_gettime(CLOCK_MONOTONIC, &time);
	return (long long)time.tv_sec * 1000000000LL + time.tv_nsec;
}

int main(int argc, char **argv)
{
	int first = 1;
	if(argc > 1 && !strcmp(argv[1], "--no-alloc")){
		allocate = false;
		first = 2;
	}
	if(argc != first + 2) fail("usage: mosquitto_peer [--no-alloc] ACL_FILE REQUESTS_FILE", NULL);
	read_acl(argv[first]);
	size_t count;
	struct request *requests = read_requests(argv[first + 1], &count);
	if(count == 0) fail("no requests", NULL);
	char command[64];
	/* Decisions between two looks at the clock, grown so that a batch takes about 1 ms. */
	size_t batch = 1;
	size_t next = 0;
	volatile unsigned long long sink = 0;
	while(fgets(command, sizeof(command), stdin)){
		if(!strncmp(command, "check", 5)){
			for(size_t i = 0; i < count; i++) putchar(allowed(&requests[i]) ? '1' : '0');
			putchar('\n');
		}else if(!strncmp(command, "round ", 6)){
			long long budget = atoll(command + 6) * 1000000LL;
			long long start = now_ns();
			long long elapsed = 0;
			unsigned long long done = 0;
			while(elapsed < budget){
				long long before = elapsed;
				for(size_t k = 0; k < batch; k++){
					sink += allowed(&requests[next]);
					if(++next == count) next = 0;
				}
				done += batch;
				elapsed = now_ns() - start;
				if(elapsed - before < 1000000LL && batch < count) batch *= 2;
			}
			printf("%llu %lld\n", done, elapsed);
		}else{
			fail("unknown command: ", command);
		}
		fflush(stdout);
	}
	return sink == 0xffffffffffffffffULL ? 1 : 0;
}
