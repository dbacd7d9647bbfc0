/* http_files.h - opening a file under the server's root, and never outside it.
 *
 * The path has already been decoded and cleaned (http_target_path: no "..", no NUL). What
 * is left is the file system itself: a symbolic link inside the root may point anywhere.
 * So the kernel is asked to resolve the path without leaving the root: Linux's openat2()
 * with RESOLVE_BENEATH refuses any step, through ".." or a link, that would go above the
 * directory it starts from. Where openat2 is missing (Linux before 5.6, and valgrind 3.19,
 * which does not know the call), every component is opened with O_NOFOLLOW instead, and
 * every symbolic link is refused, even one that stays inside: safe, if stricter.
 */
#ifndef HTTP_FILES_H
#define HTTP_FILES_H

#include <stdbool.h>
#include <sys/stat.h>

/* http_files_open_root - open the directory dir as the root. Returns its descriptor, or -1
 * with errno set. */
int http_files_open_root(const char *dir);

/* What http_files_open found. */
struct http_file {
    int fd;           /* open for reading; -1 when status is not 200 */
    struct stat st;   /* the file's size and modification time */
    int status;       /* 200, 301 (a directory named without its final '/'), 403, 404, 500 */
    const char *why;  /* for an error page: "a symbolic link that leads out of the root" */
    const char *name; /* the file's name, for its Content-Type: path, or "index.html" */
};

/* http_files_open - open path (relative to the root, cleaned, "" for the root itself).
 * A directory is served by its index.html; dir_slash says whether the request's path
 * ended with '/' (without it, relative links in the page would break: 301). Only regular
 * files are opened; fd is the caller's to close. */
void http_files_open(int root_fd, const char *path, bool dir_slash, struct http_file *file);

#endif
