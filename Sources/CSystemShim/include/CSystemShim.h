#ifndef MEETMETER_CSYSTEMSHIM_H
#define MEETMETER_CSYSTEMSHIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

// glibc names the fields of siginfo_t and struct sigaction through unions and macros
// (si_addr, sa_sigaction) whose private spellings Swift would otherwise have to use.

typedef void (*meetmeter_siginfo_handler)(int, siginfo_t *, void *);

/// The faulting address of a SIGBUS or SIGSEGV.
static inline void *meetmeter_siginfo_address(const siginfo_t *info) { return info->si_addr; }

/// Installs `handler` for `signal` with SA_SIGINFO and an empty mask. Returns sigaction's result.
int meetmeter_install_siginfo_handler(int signal, meetmeter_siginfo_handler handler);

/// One inotify event read from an inotify descriptor: its mask and the length of the whole
/// record (header and name) in the buffer, so that a reader can step over it.
typedef struct {
    uint32_t mask;
    size_t length;
} meetmeter_inotify_event;

/// Decodes the event at `offset` of `buffer` (of `count` bytes). Returns 0 when there is a whole
/// event there, -1 when the rest of the buffer is shorter than one.
int meetmeter_inotify_event_at(const void *buffer, size_t count, size_t offset, meetmeter_inotify_event *event);

#endif
