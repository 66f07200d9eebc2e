# Writes the seccomp filter (BPF) that bubblewrap loads into every runtime process: system calls
# that code in a farm never needs and that widen what a process can reach are refused with EPERM
# (ENOSYS for clone3, so that libc falls back to clone, whose flags the filter can see). Built with
# libseccomp's own Python binding (Debian: python3-seccomp), for the machine's architecture.
#
#   python3 syscall-filter.py OUT.bpf
import errno
import sys

import seccomp

REFUSED = [
    # Other processes' memory and execution.
    "ptrace", "process_vm_readv", "process_vm_writev",
    # File systems and namespaces: the view bubblewrap built stays the view.
    "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    "setns", "unshare", "chroot",
    # Kernel attack surface a computation never needs.
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    # Kernel modules, rebooting, swap, accounting, the kernel log.
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "syslog", "quotactl",
    # File handles bypass the view's paths.
    "open_by_handle_at", "name_to_handle_at",
]
CLONE_NEWUSER = 0x10000000

out = sys.argv[1]
f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for name in REFUSED:
    try:
        f.add_rule(seccomp.ERRNO(errno.EPERM), name)
    except (RuntimeError, ValueError):
        # A call this kernel or libseccomp does not know cannot be made either.
        pass
# A new user namespace would give back the capabilities the sandbox dropped.
f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
with open(out, "wb") as bpf:
    f.export_bpf(bpf)
