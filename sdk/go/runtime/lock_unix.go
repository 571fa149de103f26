//go:build unix

package runtime

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock (released when the file is closed).
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
