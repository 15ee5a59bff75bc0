// Types of the vendored commander bundle: those of @commander-js/extra-typings 15.1.0.
export * from "npm:@commander-js/extra-typings@15.1.0";
