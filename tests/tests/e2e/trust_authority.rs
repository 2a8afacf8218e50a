//! Issue 9 (trust): see the module's tests.
