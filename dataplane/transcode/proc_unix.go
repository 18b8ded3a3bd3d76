//go:build unix

package transcode

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the tool in a process group of its own and makes
// cancellation kill the whole group, so that nothing it started outlives the job.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
