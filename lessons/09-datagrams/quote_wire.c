/* quote_wire.c - tags and replies of the quote protocol (see quote_wire.h). */
#include <string.h>

#include "quote_wire.h"

size_t wire_tag_len(const char *request, size_t len)
{
    size_t i = 0;

    while (i < len && request[i] != '\0' && request[i] != '\r' && request[i] != '\n')
        i++;
    return i;
}

int wire_reply(struct iovec iov[3], const char *tag, size_t tag_len, const char *quote,
               size_t quote_len)
{
    static char space[] = " ";
    int n = 0;

    if (tag_len > 0) {
        /* iov_base is not const in struct iovec; sendmsg only reads these bytes. */
        iov[n++] = (struct iovec){.iov_base = (char *)tag, .iov_len = tag_len};
        iov[n++] = (struct iovec){.iov_base = space, .iov_len = 1};
    }
    iov[n++] = (struct iovec){.iov_base = (char *)quote, .iov_len = quote_len};
    return n;
}

bool wire_match(const char *reply, size_t len, const char *tag, size_t tag_len, const char **quote,
                size_t *quote_len)
{
    size_t skip = tag_len > 0 ? tag_len + 1 : 0; /* the tag and its space */

    if (len < skip || (tag_len > 0 && (memcmp(reply, tag, tag_len) != 0 || reply[tag_len] != ' ')))
        return false;
    *quote = reply + skip;
    *quote_len = len - skip;
    return true;
}
