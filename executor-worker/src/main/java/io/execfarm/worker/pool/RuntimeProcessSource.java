package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.RuntimeLauncher;
import io.execfarm.worker.runtime.RuntimeProcess;
import io.execfarm.worker.runtime.RuntimeStartException;
import java.util.Optional;

/** Real runtime processes for a pool. */
public final class RuntimeProcessSource implements ProcessSource<RuntimeProcess> {

    private final RuntimeLauncher launcher;

    public RuntimeProcessSource(RuntimeLauncher launcher) {
        this.launcher = launcher;
    }

    @Override
    public RuntimeProcess start(int slot) throws RuntimeStartException {
        return launcher.start(slot);
    }

    @Override
    public void dispose(RuntimeProcess process) {
        launcher.dispose(process);
    }

    @Override
    public Optional<Retirement> unfitWhileIdle(RuntimeProcess process) {
        return process.idleUnrest().map(Retirement::of);
    }

    @Override
    public long residentBytes(RuntimeProcess process) {
        return process.residentBytes();
    }
}
