//go:build !unix

package transcode

import "os/exec"

// setProcessGroup leaves the default, killing the process alone, where there
// are no process groups.
func setProcessGroup(*exec.Cmd) {}
