"""Files the grader writes, written as root would need them written: never through a link someone planted.

Every write goes through a folder opened once (:class:`Folder`: the folder itself never a symlink, checked to be
ours) and lands by creating a new, randomly named file exclusively (``O_EXCL | O_NOFOLLOW``) beside the target and
renaming it over the target; renaming replaces a planted link, it never follows one. A folder that others may
write without the sticky bit (``/tmp`` has it) is refused, and so is an existing target that another user owns
in a folder anyone may write.
"""
import os
import secrets
import stat

MAX_READ = 256 * 2 ** 20


class UnsafePath(ValueError):
    """A gradebook or feedback path the grader refuses to write (the message names it and says why)."""


class Folder:
    """A folder the grader writes into, opened without following a link at its last step (``create``: made
    first when missing, mode 0755)."""

    def __init__(self, path, create=False, what="folder"):
        self.path = os.path.abspath(path)
        if create:
            try:
                os.mkdir(self.path, 0o755)
            except FileExistsError:
                pass
            except OSError as error:
                raise UnsafePath(f"{what} {self.path}: cannot create it ({error.strerror})") from None
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            raise UnsafePath(f"{what} {self.path}: not a folder the grader can use ({error.strerror}; a link "
                             "is never followed)") from None
        info = os.fstat(self.fd)
        if info.st_mode & 0o002 and not info.st_mode & stat.S_ISVTX:
            os.close(self.fd)
            raise UnsafePath(f"{what} {self.path}: anyone may write there and it has no sticky bit: choose a "
                             "folder of your own")
        if create and info.st_uid != os.geteuid():
            os.close(self.fd)
            raise UnsafePath(f"{what} {self.path}: it belongs to another user (uid {info.st_uid}): choose a "
                             "folder of your own")
        self.shared = bool(info.st_mode & 0o002)

    def _owned(self, name):
        try:
            info = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(f"{os.path.join(self.path, name)}: not a plain file (a link or a folder): refused")
        if self.shared and info.st_uid != os.geteuid():
            raise UnsafePath(f"{os.path.join(self.path, name)}: it belongs to another user (uid {info.st_uid}): "
                             "refused")
        return info

    def read_text(self, name):
        """The text of the file ``name`` here, or None when there is none; never through a link."""
        if self._owned(name) is None:
            return None
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.fd)
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_READ + 1)
        if len(data) > MAX_READ:
            raise UnsafePath(f"{os.path.join(self.path, name)}: larger than {MAX_READ // 2 ** 20} MiB: refused")
        return data.decode("utf-8")

    def write_text(self, name, text):
        """Write ``text`` to ``name`` here: a new file created exclusively, then renamed over ``name``."""
        self._owned(name)
        part = f".{name}.{secrets.token_hex(8)}.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=self.fd)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(part, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(part, dir_fd=self.fd)
            except OSError:
                pass
            raise
        return os.path.join(self.path, name)

    def exists(self, name):
        return self._owned(name) is not None

    def close(self):
        os.close(self.fd)
