package queue

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// Logger adapts l to asynq.Logger, so asynq's messages go through the
// process's slog handler (and its format, level and request attributes)
// instead of asynq's own stderr logger. Pair it with asynq.Config.LogLevel.
func Logger(l *slog.Logger) asynq.Logger { return slogLogger{l} }

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) log(level slog.Level, args []any) {
	// Formatting only when enabled keeps debug chatter cheap.
	if s.l.Enabled(context.Background(), level) {
		s.l.Log(context.Background(), level, fmt.Sprint(args...), "component", "asynq")
	}
}

func (s slogLogger) Debug(args ...any) { s.log(slog.LevelDebug, args) }
func (s slogLogger) Info(args ...any)  { s.log(slog.LevelInfo, args) }
func (s slogLogger) Warn(args ...any)  { s.log(slog.LevelWarn, args) }
func (s slogLogger) Error(args ...any) { s.log(slog.LevelError, args) }

// Fatal logs at error level and does not exit: ending the process is for
// cmd/ to decide, and asynq v0.26 never calls Fatal.
func (s slogLogger) Fatal(args ...any) { s.log(slog.LevelError, args) }
