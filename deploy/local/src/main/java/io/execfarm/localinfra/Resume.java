package io.execfarm.localinfra;

import java.time.Duration;

/** Lets a paused component go on after a while, from a daemon thread, so a pause returns at once. */
final class Resume {

    private Resume() {
    }

    static void after(Duration pause, String name, Runnable resume) {
        Thread thread = new Thread(() -> {
            try {
                Thread.sleep(pause.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                resume.run();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
    }
}
