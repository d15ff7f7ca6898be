#include "CSystemShim.h"
#include <string.h>
#include <sys/inotify.h>

int meetmeter_install_siginfo_handler(int signal, meetmeter_siginfo_handler handler) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, NULL);
}

int meetmeter_inotify_event_at(const void *buffer, size_t count, size_t offset, meetmeter_inotify_event *event) {
    if (offset > count || count - offset < sizeof(struct inotify_event)) return -1;
    struct inotify_event header;
    memcpy(&header, (const char *)buffer + offset, sizeof header);
    size_t length = sizeof(struct inotify_event) + header.len;
    if (count - offset < length) return -1;
    event->mask = header.mask;
    event->length = length;
    return 0;
}
