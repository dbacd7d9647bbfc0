/* diag.h - the program's voice: one-line messages prefixed with its name.
 *
 * Every message a kit program prints about itself goes through here, so each
 * starts with the program name ("echo-server: ...") and a trailing ':' in the
 * format appends strerror(errno), as in die("bind:").
 */
#ifndef KIT_DIAG_H
#define KIT_DIAG_H

/* Exit codes every program keeps: run-time failure, bad usage. */
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* diag_set_progname - remember the basename of argv0 for every message. */
void diag_set_progname(const char *argv0);

/* diag_progname - the name set by diag_set_progname ("?" before it). */
const char *diag_progname(void);

/* diag_warn - print "prog: message" on stderr; a trailing ':' appends strerror(errno). */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* die - diag_warn, then exit(EXIT_RUNTIME). */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* die_usage - print "usage: prog USAGE" on stderr and exit(EXIT_USAGE). */
_Noreturn void die_usage(const char *usage);

/* die_bad_usage - print what was wrong ("prog: port must be a number from 0 to 65535: 99999"),
 * then the usage line, on stderr; exit(EXIT_USAGE). */
_Noreturn void die_bad_usage(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* die_bad_option - after getopt_long returned '?' or ':' (the optstring must start with ':'):
 * name the unknown option, or the option whose value is missing or not allowed, then the
 * usage line; exit(EXIT_USAGE). longopts is the table given to getopt_long. */
struct option;
_Noreturn void die_bad_option(const char *usage, int c, char **argv, const struct option *longopts);

/* diag_print_usage - print "usage: prog USAGE" on stdout (for -h). */
void diag_print_usage(const char *usage);

#endif
