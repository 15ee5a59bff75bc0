/** Bit flags for the actions a rule covers. */

/** Action bit for publish. */
export const PUB = 1;
/** Action bit for subscribe. */
export const SUB = 2;
