package io.execfarm.worker.conformance;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The same behaviour written in each runtime's language. Every snippet's observable result (output,
 * value, status) is defined by the suite, so any runtime that passes behaves the same for clients.
 */
interface Snippets {

    /** Prints {@code hello, world} and a newline. */
    String hello();

    /** Ends with an expression whose value is the integer 42. */
    String lastValue();

    /** Ends with a statement or the runtime's "nothing": no value. */
    String noValue();

    /** stdout "one\n", stderr "two\n", stdout "three\n", each flushed, 200 ms apart: streams are ordered across each other only for writes that far apart. */
    String interleaved();

    /** Prints 0 to n-1, one per line. */
    String manyLines(int n);

    /** Prints "héllo 🚀 ✓\n". */
    String unicode();

    /** Writes the bytes 'a', 0xFF, 'b', '\n' to file descriptor 1. */
    String invalidBytes();

    /** Prints {@code bytes} copies of 'x' and nothing else. */
    String bigOutput(int bytes);

    /** Defines a function named explode that fails with message "boom", and calls it. */
    String runtimeError();

    String runtimeErrorType();

    String syntaxError();

    String syntaxErrorType();

    /** Prints "before\n", flushes, then loops forever burning CPU. */
    String printThenSpin();

    /** Prints "started\n", flushes, then sleeps. */
    String printThenSleep(int seconds);

    /** Ends the process with this exit code, at once. */
    String exitWith(int code);

    /** Kills the process with SIGABRT. */
    String abort();

    /** Closes file descriptor 1 and finishes normally. */
    String closeStdout();

    /** Closes every file descriptor from 1 to 1023, the frame channel included. */
    String closeAllDescriptors();

    /** Writes "garbage\n" to every file descriptor from 3 to 63 that accepts it. */
    String writeGarbageEverywhere();

    /**
     * Returns at once, leaving a background thread (Python) or a task on another thread (Julia's
     * {@code Threads.@spawn}: an {@code @async} task waits for the driver to yield, which it does not
     * while idle) that half a second later writes frames
     * to every file descriptor from 3 to 63: one small output frame, then a flood of 1 MiB ones.
     */
    String writeFramesLater();

    /**
     * Writes a done frame for request {@code requestId} with the value {@code forged} to every file
     * descriptor from 3 to 63, then finishes normally a moment later with the value 7.
     */
    String forgeDone(String requestId);

    /**
     * Writes an output frame for request {@code requestId} whose text is {@code chars} x's to the
     * frame channel (Python: to every file descriptor from 3 to 63), then sleeps a second so that the worker reads it while the
     * request still runs.
     */
    String writeOutputFrame(String requestId, int chars);

    /** Writes {@code bytes} x's and no newline to the frame channel (Python: to every descriptor from 3 to 63). */
    String writeEndlessLine(int bytes);

    /** Writes "from C\n" to fd 1 through the C library (below the runtime's own streams). */
    String cLevelWrite();

    /** Runs `echo from child` as a child process. */
    String childProcessOutput();

    /** Assigns 41 to a global named carried_value. */
    String defineCarriedValue();

    /** carried_value + 1: 42 where it is defined, an error where it is not. */
    String useCarriedValue();

    /** Defines a function answer() returning carried_value + 1, in the session. */
    String defineFunctionUsingCarriedValue();

    /** Calls answer(). */
    String callAnswer();

    /** Imports the standard base64 module (Python) or Base64 package (Julia) under a name kept in the session. */
    String importModule();

    /** The length of the base64 encoding of the text "42", through the imported module: the integer 4. */
    String useImportedModule();

    /** Defines a type CarriedPoint with one integer field x. */
    String defineType();

    /** CarriedPoint(6).x * 7: the integer 42. */
    String useType();

    /** Assigns a random 16-digit hex string to carried_token: a replay computes a different one. */
    String defineRandomToken();

    /** The value of carried_token. */
    String readToken();

    /** Starts `sleep 1000` in the background and returns at once. */
    String startBackgroundSleeper();

    /**
     * Leaves a thread (Python) or a task on the driver's other thread (Julia) that prints "stray"
     * lines and spins for 10 s; returns at once.
     */
    String leaveRunning();

    /**
     * Leaves what prints "late" 0.3 s later while no thread of its own exists: tasks waiting on a timer
     * (Julia: one {@code @async}, two {@code Threads.@spawn}, one of which yields first), a signal timer and its handler
     * (Python); returns at once.
     */
    String leaveTimer();

    /**
     * Arms a POSIX timer (timer_create, then timer_settime) that sends SIGALRM 0.3 s later (Python
     * prints "late" for it; Julia dies of it); returns at once.
     */
    String leavePosixTimer();

    /** Sleeps half a second, then prints "hello, world": time for something left waiting to fire. */
    String helloAfterHalfASecond();

    /** Leaves a thread (Python) or a task (Julia) that starts `sleep 1000` half a second later; returns at once. */
    String startSleeperLater();

    /**
     * Starts two shell loops that spin for 1.5 s, then kills them; the CPU they used per second of
     * wall time, from their /proc stat files (a decimal).
     */
    String spinTwoProcesses();

    /**
     * Impersonates the driver: sends a done of its own for its own request (value "forged"), then
     * reads each next command from the driver's command channel itself and answers it with the
     * output "forged" and a done valued "forged". Never returns.
     */
    String answerTheNextRequest();

    /** Writes 1 MiB files into {@code dir} until a write fails or 1 GiB is written; ends with the MiB written (an integer). */
    String fill(String dir);

    /** The number of processes whose command line contains "sleep 1000" (as an integer value). */
    String countSleepers();

    /**
     * The number of places where user code can see {@code secret}: its environment, and the
     * environ file of every process it can open, including /proc/{workerPid}/environ.
     */
    String secretSightings(String secret, long workerPid);

    /** Prints the content of a file, or "unreadable" when it cannot be read. */
    String readFile(String path);

    /** Prints "connected\n" if a TCP connection to host:port opens within 2 s, else "no connection\n". */
    String connect(String host, int port);

    /** Prints the names in the directory, sorted, one per line; "unreadable\n" if it cannot be listed. */
    String listDirectory(String path);

    /**
     * Makes each system call (name → number and arguments, in order) through libc's syscall() and
     * prints "name errno\n" for each: the errno when it returned -1, else 0.
     */
    String syscalls(Map<String, List<Long>> calls);

    /** The calls as lines of tuple literals, ("name", number, args...), which Python and Julia read alike. */
    static String syscallTuples(Map<String, List<Long>> calls) {
        StringBuilder tuples = new StringBuilder();
        calls.forEach((name, call) -> tuples.append("    (\"").append(name).append("\", ")
                .append(call.stream().map(String::valueOf).collect(Collectors.joining(", ")))
                .append("),\n"));
        return tuples.toString();
    }

    /** Allocates far more memory than the address-space limit, at once and then gradually. */
    String memoryBomb();

    /** Starts a shell fork bomb in the background, then sleeps. */
    String forkBomb();

    /** Shows the range 1 to 3 through the runtime's own display mechanism (Julia's display, Python's displayhook). */
    String displayRange();

    /** What {@link #displayRange()} prints, without its line end. */
    String displayedRange();

    /** Sets s to 0, adds 1, 2 and 3 to it in a top-level loop, and ends with s: 6. */
    String loopAccumulating();

    /** Runs the child process `true`, then prints {@code bytes} copies of 'x' and nothing else. */
    String childThenBigPrint(int bytes);

    /** Writes {@code bytes} copies of 'y' and a newline through the C library's puts. */
    String bigCLevelWrite(int bytes);

    /** Emits a warning with the text "careful" through the runtime's warning or logging mechanism. */
    String warning();

    /** Defines a type P holding the integer 3 and ends with an instance of it. */
    String userTypeValue();

    /** How the runtime renders {@link #userTypeValue()}'s instance: unqualified, as the user wrote it. */
    String userTypeRendered();

    /** Defines an exception type X and raises it. */
    String userException();

    /** Raises an error with message "outer" while handling one with message "inner". */
    String errorWhileHandlingAnother();

    /**
     * Breaks the driver's reading of its commands (user code runs in the driver's process): the
     * next command fails before any request starts.
     */
    String breakCommandReading();

    /** Prints "tick N" for N from 1 to {@code ticks}, one every 100 ms. */
    String tickEvery100Ms(int ticks);

    /** Reads data/in.csv (a header, then the numbers 1 to 3), prints "rows 4", writes their sum to out/sum.txt. */
    String sumInputIntoOutput();

    /**
     * Leaves in out/: ok.txt ("ok"), link.txt (a symbolic link to /etc/passwd), big.bin ({@code bytes}
     * bytes) and {@code many} files under out/many/.
     */
    String leaveFilesToCollect(int bytes, int many);

    /** Makes {@code name} in the working directory a symbolic link to the directory {@code target}. */
    String linkDirectory(String name, String target);

    /** Prints "before", displays a value that has an HTML rendering and a PNG of {@code pngBytes} bytes, prints "after". */
    String displayBetweenPrints(int pngBytes);

    /** Makes {@code n} empty files in many/. */
    String manyEmptyFiles(int n);

    /** Starts a shell in the background that appends to {@code path} without end, waits until it holds 64 KiB, and returns. */
    String growInTheBackground(String path);

    /** Draws a line with matplotlib and shows it; null where the runtime has no plotting library. */
    default String plotAndShow() {
        return null;
    }
}
