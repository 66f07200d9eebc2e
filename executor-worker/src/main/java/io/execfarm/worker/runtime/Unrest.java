package io.execfarm.worker.runtime;

/**
 * Why a process is not at rest, as seen from outside it: a process found so is retired before it
 * can serve another request.
 */
public enum Unrest {
    /** It exited, or the worker killed it (a crash, a timeout, a cancel). */
    EXITED,
    /** It wrote to its frame channel while no request ran, and the worker killed it for that. */
    WROTE_WHILE_IDLE,
    /** Its control group holds more tasks (threads or processes) than it did at rest before any request. */
    TASKS_LEFT,
    /** One of its threads was still running, and using CPU, once its request had ended. */
    RUNNING,
    /**
     * Its driver's first thread, once its request had ended, was blocked somewhere other than where
     * it waits for a command at rest: code of the request waiting in its place (after a done of its
     * own, to read the next request's command and answer it).
     */
    AWAY_FROM_REST,
    /** It used CPU while idle, between requests. */
    IDLE_CPU,
    /** It still holds shared memory (a tmpfs file, a memfd) once its scratch file systems were emptied. */
    MEMORY_HELD,
    /** It used the CPU its whole life may (sandbox cpu-seconds): retired between requests, not killed in one. */
    CPU_SPENT,
    /** It has more POSIX timers (timer_create) than at rest: one would fire, with a signal, in a later request. */
    TIMER_LEFT,
    /** Its scratch directories (working directory, /tmp, /dev/shm) could not be emptied. */
    SCRATCH,
    /**
     * Its driver said the request left something to run later that no thread shows yet: a task
     * waiting on a timer or a socket in the runtime's event loop, an interval timer. The one reason
     * taken from the driver's word, which can only retire a process: user code can silence it, never
     * make a process pass the checks above.
     */
    LEFT_WAITING
}
