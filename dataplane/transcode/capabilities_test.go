package transcode

import (
	"path/filepath"
	"slices"
	"testing"
)

const encodersFixture = `Encoders:
 V..... = Video
 A..... = Audio
 S..... = Subtitle
 .F.... = Frame-level multithreading
 ..S... = Slice-level multithreading
 ...X.. = Codec is experimental
 ....B. = Supports draw_horiz_band
 .....D = Supports direct rendering method 1
 ------
 V..... libsvtav1            SVT-AV1(Scalable Video Technology for AV1) encoder (codec av1)
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D h264_nvenc           NVIDIA NVENC H.264 encoder (codec h264)
 V....D hevc_nvenc           NVIDIA NVENC hevc encoder (codec hevc)
 A..... aac                  AAC (Advanced Audio Coding)
`

const hwaccelsFixture = `Hardware acceleration methods:
vdpau
cuda
vaapi

`

func TestParseCapabilities(t *testing.T) {
	t.Parallel()
	if got, want := parseEncoders(encodersFixture), []string{"libsvtav1", "libx264", "h264_nvenc", "hevc_nvenc", "aac"}; !slices.Equal(got, want) {
		t.Errorf("encoders %v, want %v", got, want)
	}
	if got, want := parseHWAccels(hwaccelsFixture), []string{"vdpau", "cuda", "vaapi"}; !slices.Equal(got, want) {
		t.Errorf("hwaccels %v, want %v", got, want)
	}
	if got := parseGPU("NVIDIA L4\nNVIDIA L4\n"); got != "NVIDIA L4" {
		t.Errorf("gpu %q", got)
	}

	caps := Capabilities{Encoders: parseEncoders(encodersFixture), HWAccels: parseHWAccels(hwaccelsFixture)}
	if caps.NVENC() || caps.Encoder() != EncoderCPU {
		t.Error("NVENC without a GPU")
	}
	caps.GPU = "NVIDIA L4"
	if !caps.NVENC() || caps.Encoder() != EncoderNVENC {
		t.Error("no NVENC with a GPU, h264_nvenc and cuda")
	}
	caps.HWAccels = []string{"vaapi"}
	if caps.NVENC() {
		t.Error("NVENC without CUDA")
	}
}

func TestDetectCapabilities(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	ctx := testContext(t)
	caps, err := DetectCapabilities(ctx, "ffmpeg")
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{"libx264", "libx265", "libsvtav1", "aac"} {
		if !caps.HasEncoder(enc) {
			t.Errorf("no %s in %v", enc, caps.Encoders)
		}
	}

	// A GPU node: nvidia-smi answers with its model.
	caps, err = detectCapabilities(ctx, fakeTools["ffmpeg-caps"], fakeTools["nvidia-smi-gpu"])
	if err != nil || caps.GPU != "NVIDIA L40S" || !caps.HasEncoder("hevc_nvenc") || caps.Encoder() != EncoderNVENC {
		t.Errorf("GPU node: %+v, %v", caps, err)
	}
	// nvidia-smi installed without a driver: a CPU node, not an error.
	caps, err = detectCapabilities(ctx, fakeTools["ffmpeg-caps"], fakeTools["nvidia-smi-broken"])
	if err != nil || caps.GPU != "" || caps.Encoder() != EncoderCPU {
		t.Errorf("broken driver: %+v, %v", caps, err)
	}

	_, err = DetectCapabilities(ctx, filepath.Join(t.TempDir(), "no-ffmpeg"))
	wantCode(t, err, CodeUnavailable, true)
}
