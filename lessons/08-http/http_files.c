/* http_files.c - opening a file under the server's root, and never outside it.
 * Linux-only (openat2), with a POSIX fallback: see http_files.h. */
#define _GNU_SOURCE /* syscall() */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "http_files.h"
#include "http_url.h"

/* Every file is opened like this: O_NONBLOCK so that a FIFO placed under the root cannot
 * make open() wait for a writer (it is refused right after: not a regular file). */
enum { OPEN_FLAGS = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK };

int http_files_open_root(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The fallback: each component with O_NOFOLLOW, so any symbolic link fails with ELOOP. */
static int open_without_links(int root_fd, const char *path)
{
    char part[HTTP_TARGET_MAX + 1];
    int dir = root_fd;

    if (path[0] == '\0')
        return openat(root_fd, ".", OPEN_FLAGS);
    for (;;) {
        size_t n = strcspn(path, "/");
        memcpy(part, path, n);
        part[n] = '\0';
        path += n;
        /* No O_DIRECTORY on the way: with it, a link fails as ENOTDIR, not ELOOP. A file
         * in the middle of the path fails at the next step, ENOTDIR: not found. */
        int fd = openat(dir, part, OPEN_FLAGS | O_NOFOLLOW);
        if (dir != root_fd) {
            int saved = errno;
            close(dir);
            errno = saved;
        }
        if (fd < 0 || *path == '\0')
            return fd;
        dir = fd;
        path++; /* the '/' */
    }
}

/* Open path under root_fd, resolved by the kernel without leaving it. -1 with errno:
 * EXDEV (the path leads out of the root), ELOOP (a link, in the fallback), ENOENT... */
static int open_beneath(int root_fd, const char *path)
{
#ifdef SYS_openat2
    static bool missing; /* ENOSYS once: the kernel (or valgrind) will not learn it later */
    struct open_how how = {
        .flags = OPEN_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, /* no /proc/self/fd tricks */
    };

    if (!missing) {
        long fd = syscall(SYS_openat2, root_fd, path[0] != '\0' ? path : ".", &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        missing = true;
    }
#endif
    return open_without_links(root_fd, path);
}

/* Fill file's error from an open() or fstat() failure. */
static void refuse(struct http_file *file, int error)
{
    file->fd = -1;
    switch (error) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        file->status = 404;
        file->why = "no such file";
        break;
    case EXDEV:
        file->status = 403;
        file->why = "a symbolic link that leads out of the root";
        break;
    case ELOOP:
        file->status = 403;
        file->why = "a symbolic link (refused where openat2 is missing)";
        break;
    case EACCES:
    case EPERM:
        file->status = 403;
        file->why = "permission denied";
        break;
    default:
        file->status = 500;
        file->why = strerror(error);
        break;
    }
}

/* Open path and fstat it. Returns 0, or -1 with file's error filled. */
static int open_and_stat(int root_fd, const char *path, struct http_file *file)
{
    file->fd = open_beneath(root_fd, path);
    if (file->fd < 0) {
        refuse(file, errno);
        return -1;
    }
    if (fstat(file->fd, &file->st) < 0) {
        int saved = errno;
        close(file->fd);
        refuse(file, saved);
        return -1;
    }
    return 0;
}

void http_files_open(int root_fd, const char *path, bool dir_slash, struct http_file *file)
{
    file->status = 200;
    file->why = "";
    file->name = path;
    if (open_and_stat(root_fd, path, file) < 0)
        return;
    if (S_ISDIR(file->st.st_mode)) {
        close(file->fd);
        file->fd = -1;
        if (!dir_slash && path[0] != '\0') {
            file->status = 301;
            file->why = "a directory: its name ends with '/'";
            return;
        }
        char index[HTTP_TARGET_MAX + 16];
        snprintf(index, sizeof index, "%s%sindex.html", path, path[0] != '\0' ? "/" : "");
        file->name = "index.html";
        if (open_and_stat(root_fd, index, file) < 0) {
            if (file->status == 404) {
                file->status = 403;
                file->why = "a directory without index.html (listing it is an exercise)";
            }
            return;
        }
    }
    if (!S_ISREG(file->st.st_mode)) {
        close(file->fd);
        file->fd = -1;
        file->status = 403;
        file->why = "not a regular file";
    }
}
