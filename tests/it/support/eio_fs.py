#!/usr/bin/python3
"""A FUSE passthrough filesystem for particle's tests: mounts BACKING at MOUNTPOINT and makes
the kernel return EIO to the caller's write(2) while CONTROL/fail-write exists, and to its
fsync(2)/fdatasync(2) while CONTROL/fail-fsync exists. So a test can give particle's real file
code a real I/O error. Runs in the foreground until unmounted. Needs python3-fusepy (libfuse2)
and root."""
import errno, os, sys
from fusepy import FUSE, FuseOSError, Operations

backing, mountpoint, control = sys.argv[1:4]


class EioFs(Operations):
    def _path(self, path):
        return os.path.join(backing, path.lstrip("/"))

    def _failing(self, op):
        return os.path.exists(os.path.join(control, "fail-" + op))

    def getattr(self, path, fh=None):
        st = os.lstat(self._path(path))
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")
        return {k: getattr(st, k) for k in keys}

    def access(self, path, mode):
        if not os.access(self._path(path), mode):
            raise FuseOSError(errno.EACCES)

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._path(path))

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}

    def mkdir(self, path, mode):
        os.mkdir(self._path(path), mode)

    def unlink(self, path):
        os.unlink(self._path(path))

    def rename(self, old, new):
        os.rename(self._path(old), self._path(new))

    def chmod(self, path, mode):
        os.chmod(self._path(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._path(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._path(path), times)

    def open(self, path, flags):
        return os.open(self._path(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._path(path), os.O_RDWR | os.O_CREAT, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        if self._failing("write"):
            raise FuseOSError(errno.EIO)
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if self._failing("write"):
            raise FuseOSError(errno.EIO)
        os.truncate(self._path(path), length)

    def fsync(self, path, datasync, fh):
        if self._failing("fsync"):
            raise FuseOSError(errno.EIO)
        os.fsync(fh)
        return 0

    def fsyncdir(self, path, datasync, fh):
        if self._failing("fsync"):
            raise FuseOSError(errno.EIO)
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0


FUSE(EioFs(), mountpoint, foreground=True, nothreads=True)
