package transcode

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Capabilities is what a node can encode with; workers register it so that GPU
// work is sent only to GPU nodes.
type Capabilities struct {
	Encoders []string // ffmpeg encoders: "libx264", "libx265", "libsvtav1", "h264_nvenc" …
	HWAccels []string // ffmpeg hardware decoders: "cuda", "vaapi" …
	GPU      string   // first NVIDIA GPU's model from nvidia-smi; "" when there is none
}

// HasEncoder reports whether ffmpeg has the named encoder.
func (c Capabilities) HasEncoder(name string) bool { return slices.Contains(c.Encoders, name) }

// NVENC reports whether EncoderNVENC can run here: ffmpeg built with NVENC and
// CUDA, and a GPU that answers nvidia-smi.
func (c Capabilities) NVENC() bool {
	return c.GPU != "" && c.HasEncoder("h264_nvenc") && slices.Contains(c.HWAccels, "cuda")
}

// Encoder is the encoder family this node should use: NVENC where it can run,
// the CPU elsewhere.
func (c Capabilities) Encoder() string {
	if c.NVENC() {
		return EncoderNVENC
	}
	return EncoderCPU
}

// nvidiaSMITimeout bounds nvidia-smi, which hangs for long on a wedged driver.
const nvidiaSMITimeout = 10 * time.Second

// DetectCapabilities asks ffmpeg for its encoders and hardware decoders and
// nvidia-smi, when installed, for the GPU. Only a broken ffmpeg is an error.
func DetectCapabilities(ctx context.Context, ffmpegPath string) (Capabilities, error) {
	smi, _ := exec.LookPath("nvidia-smi")
	return detectCapabilities(ctx, ffmpegPath, smi)
}

func detectCapabilities(ctx context.Context, ffmpegPath, nvidiaSMI string) (Capabilities, error) {
	var caps Capabilities
	var out bytes.Buffer
	if _, err := runTool(ctx, ffmpegPath, []string{"-hide_banner", "-encoders"}, &out); err != nil {
		return caps, toolError(ctx, "ffmpeg -encoders", err)
	}
	caps.Encoders = parseEncoders(out.String())
	out.Reset()
	if _, err := runTool(ctx, ffmpegPath, []string{"-hide_banner", "-hwaccels"}, &out); err != nil {
		return caps, toolError(ctx, "ffmpeg -hwaccels", err)
	}
	caps.HWAccels = parseHWAccels(out.String())
	if nvidiaSMI != "" {
		out.Reset()
		smiCtx, cancel := context.WithTimeout(ctx, nvidiaSMITimeout)
		defer cancel()
		// No driver, or no GPU: nvidia-smi fails, and the node is a CPU node.
		if _, err := runTool(smiCtx, nvidiaSMI, []string{"--query-gpu=name", "--format=csv,noheader"}, &out); err == nil {
			caps.GPU = parseGPU(out.String())
		}
	}
	return caps, nil
}

func toolError(ctx context.Context, tool string, err error) *Error {
	if e := startFailure(ctx, tool, err); e != nil {
		return e
	}
	return machineError(CodeUnavailable, err, "%s: %v", tool, err)
}

// parseEncoders reads `ffmpeg -encoders`: a legend, a " ------" rule, then
// lines of capability flags and an encoder name.
func parseEncoders(s string) []string {
	var names []string
	listing := false
	for line := range strings.Lines(s) {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case !listing:
			listing = strings.HasPrefix(fields[0], "---")
		case len(fields) >= 2 && len(fields[0]) == 6:
			names = append(names, fields[1])
		}
	}
	return names
}

// parseHWAccels reads `ffmpeg -hwaccels`: a title line, then one name a line.
func parseHWAccels(s string) []string {
	var names []string
	for line := range strings.Lines(s) {
		name := strings.TrimSpace(line)
		if name == "" || strings.Contains(name, " ") || strings.HasSuffix(name, ":") {
			continue
		}
		names = append(names, name)
	}
	return names
}

// parseGPU takes the first model name from nvidia-smi's CSV, one GPU a line.
func parseGPU(s string) string {
	for line := range strings.Lines(s) {
		if name := strings.TrimSpace(line); name != "" {
			return name
		}
	}
	return ""
}
