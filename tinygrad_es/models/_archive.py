"""A model file's ``.npz`` archive on disk: read without trusting it, written atomically (used
by ``models.saving``, which owns the format inside).

Only a regular file is opened (a FIFO or a device would block or never end); a file that is not
a zip archive is named for what it looks like; a member is read only when the caller asks for it
by name, and only after its ``.npy`` header has been checked against the shape and dtype the
caller expects, so a member's declared size decides what is read before a byte of data is. Zip's
own CRC check runs on every member read. Nothing is unpickled (object arrays are refused).

Every problem with the file's contents is a :class:`ModelFileError` (a ``ValueError``) naming the
file; ``OSError`` is left for the file system (missing file, permissions, a directory).

Writing goes to ``.<name>.<pid>.tinygrad_es-tmp`` beside the target, is flushed, renamed onto the
target and the directory flushed; the next write to that name deletes the temporary files of
processes that no longer exist (a SIGKILL cannot be cleaned up after).
"""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from typing import Any, BinaryIO, Callable

import numpy as np

__all__ = ["ModelFileError", "Archive", "atomic_savez", "atomic_write", "MAX_HEADER_BYTES", "MAX_EXPANSION"]

MAX_HEADER_BYTES = 64 * 2**20   # the JSON header member, as stored (4 bytes per character)
MAX_EXPANSION = 1100            # deflate expands at most ~1032 times; beyond that is a zip bomb
_NPY_HEADER_LIMIT = 10_000      # numpy's own default limit for an .npy header
_TEMP_SUFFIX = ".tinygrad_es-tmp"


class ModelFileError(ValueError):
    """A file given to ``load_model`` / ``load_weights`` is not a valid tinygrad_es file.

    Raised for every malformed, truncated, foreign or inconsistent file (never ``TypeError``,
    ``KeyError`` and the like); ``OSError`` is kept for file-system errors. ``filepath`` is the
    file, ``reason`` what is wrong with it.

    Example:
        >>> err = ModelFileError("m.npz", "it is empty")
        >>> print(err)
        'm.npz' is not a valid tinygrad_es file: it is empty
        >>> isinstance(err, ValueError)
        True
    """

    def __init__(self, filepath: Any, reason: str, prefix: str | None = None):
        self.filepath = os.fspath(filepath) if isinstance(filepath, os.PathLike) else filepath
        self.reason = reason = str(reason).replace("\n", " ")  # one line, for a CLI
        prefix = prefix or "is not a valid tinygrad_es file"
        super().__init__(f"{self.filepath!r} {prefix}: {reason}")


# ----- what a file that is not ours looks like -----

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAGIC = ((HDF5_MAGIC, "an HDF5 file, such as Keras's .h5 (Keras 2's legacy format, which "
                       "cannot be loaded: re-save the model in Keras as .keras)"),
          (b"\x93NUMPY", "a single numpy array saved with np.save (.npy), not a model"),
          (b"\x1f\x8b", "a gzip-compressed file"),
          (b"\x80", "Python pickle data (never loaded: it could run code)"))


def describe_foreign(head: bytes) -> str:
    """What the first bytes of a non-zip file look like, in words."""
    if not head:
        return "it is empty"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"it is {what}"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "it is binary data of an unknown kind, not a zip archive"
    if "\x00" not in text:
        kind = "JSON text" if text.lstrip()[:1] in ("{", "[") else "text"
        return (f"it is {kind}, not a zip archive (first line: {text.splitlines()[0][:60]!r})"
                if text.strip() else f"it is {kind} (blank)")
    return "it is binary data of an unknown kind, not a zip archive"


def describe_zip(names: list[str]) -> str:
    """What a zip archive without our header looks like."""
    if {"config.json", "model.weights.h5"} & set(names):
        return ("it is a Keras .keras archive without its config.json or model.weights.h5 "
                "(both are needed)")
    shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
    return (f"it is a zip archive without the 'tinygrad_es' header member (it holds "
            f"{len(names)} member(s): {shown or 'none'})")


# ----- the archive -----

def _reraise_file_system_error(err: Exception) -> None:
    """A read error of the disk stays an OSError; a seek to a bad offset is the file's fault."""
    if isinstance(err, MemoryError) or (isinstance(err, OSError) and err.errno not in
                                        (None, errno.EINVAL)):
        raise err

def open_regular_file(filepath: str) -> BinaryIO:
    """Open for reading, refusing anything but a regular file without blocking on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(filepath, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"{filepath!r} is a directory, not a model file")
        if not stat.S_ISREG(mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket"
                    if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode)
                    or stat.S_ISBLK(mode) else "not a regular file")
            raise ModelFileError(filepath, f"it is {kind}; only regular files are read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class Archive:
    """An open model file: ``header()`` and the members the header names, read on request.

    Use as a context manager; ``members`` lists the zip's file names (``"weights/0.npy"``, ...).
    """

    def __init__(self, filepath: str):
        self.filepath = filepath
        self._file = open_regular_file(filepath)
        try:
            self.size = os.fstat(self._file.fileno()).st_size
            head = self._file.read(8)
            if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
                raise self.error(describe_foreign(head + self._file.read(248)),
                                 "is not a tinygrad_es file (a model or weights file written by "
                                 "model.save / save_weights)")
            self._file.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._file)
            except Exception as err:  # noqa: BLE001 - BadZipFile, struct/zlib errors, bad seeks
                _reraise_file_system_error(err)
                raise self.error(f"its zip structure is damaged ({err})") from None
            self._members = {info.filename: info for info in self._zip.infolist()}
            self.members = list(self._members)  # every file name in the zip
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._zip.close()
        self._file.close()

    def error(self, reason: str, prefix: str | None = None) -> ModelFileError:
        return ModelFileError(self.filepath, reason, prefix)

    def has(self, key: str) -> bool:
        return f"{key}.npy" in self._members

    def read(self, key: str, shape: tuple | None = None, dtype: np.dtype | None = None,
             kinds: str = "biuf", max_bytes: int | None = None) -> np.ndarray:
        """Member ``key`` as an array, checked against ``shape`` / ``dtype`` before its data.

        ``None`` accepts any shape or dtype; ``kinds`` are the accepted dtype kinds.
        """
        info = self._checked_member(f"{key}.npy", key, max_bytes)
        try:
            with self._zip.open(info) as member:
                array = self._read_npy(member, key, info.file_size, shape, dtype, kinds)
        except ModelFileError:
            raise
        except Exception as err:  # noqa: BLE001 - CRC, truncation, zlib, unsupported compression
            _reraise_file_system_error(err)
            raise self.error(f"member {key!r} cannot be read ({type(err).__name__}: {err})",
                             "is damaged") from None
        return array

    def _checked_member(self, name: str, key: str, max_bytes: int | None) -> zipfile.ZipInfo:
        """The zip entry ``name``, once its declared sizes are plausible for this file."""
        info = self._members.get(name)
        if info is None:
            raise self.error(f"the header lists the array {key!r} but the archive does not "
                             "contain it", "is damaged")
        if info.flag_bits & 0x1:
            raise self.error(f"member {key!r} is encrypted")
        stored = info.compress_type == zipfile.ZIP_STORED
        if (info.compress_size > self.size or (stored and info.file_size != info.compress_size)
                or info.file_size > MAX_EXPANSION * info.compress_size + 4096):
            raise self.error(f"member {key!r} declares {info.file_size} bytes from "
                             f"{info.compress_size} stored bytes in a file of {self.size} bytes",
                             "is damaged")
        if max_bytes is not None and info.file_size > max_bytes:
            raise self.error(f"member {key!r} holds {info.file_size} bytes, more than the limit "
                             f"of {max_bytes}")
        return info

    def read_bytes(self, name: str, max_bytes: int | None = None) -> bytes:
        """The whole zip member ``name`` (e.g. ``"config.json"``), CRC-checked."""
        info = self._checked_member(name, name, max_bytes)
        try:
            with self._zip.open(info) as member:
                data = member.read(info.file_size + 1)  # reading to the end runs the CRC check
        except Exception as err:  # noqa: BLE001 - CRC, truncation, zlib, unsupported compression
            _reraise_file_system_error(err)
            raise self.error(f"member {name!r} cannot be read ({type(err).__name__}: {err})",
                             "is damaged") from None
        if len(data) != info.file_size:
            raise self.error(f"member {name!r} is truncated", "is damaged")
        return data

    def _read_npy(self, member: BinaryIO, key: str, size: int, shape: tuple | None,
                  dtype: np.dtype | None, kinds: str) -> np.ndarray:
        fmt = np.lib.format
        try:
            version = fmt.read_magic(member)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unknown .npy version {version}")
            read_header = (fmt.read_array_header_1_0 if version == (1, 0)
                           else fmt.read_array_header_2_0)
            got_shape, fortran, got_dtype = read_header(member,
                                                        max_header_size=_NPY_HEADER_LIMIT)
        except Exception as err:  # numpy's header parser: ValueError, SyntaxError, TokenError
            raise self.error(f"member {key!r} has a damaged .npy header ({err})") from None
        if dtype is not None and got_dtype != dtype:
            raise self.error(f"array {key!r} has dtype {got_dtype.str!r} ({got_dtype}), but the "
                             f"header says {dtype}")
        if got_dtype.hasobject or got_dtype.kind not in kinds or got_dtype.fields is not None:
            wanted = {"f": "floating-point", "iu": "integer", "U": "text"}.get(kinds, "numeric")
            raise self.error(f"member {key!r} holds dtype {got_dtype}, expected {wanted} data")
        if shape is not None and tuple(got_shape) != tuple(shape):
            raise self.error(f"array {key!r} has shape {tuple(got_shape)}, but the header says "
                             f"{tuple(shape)}")
        count = 1
        for n in got_shape:
            count *= n
        nbytes = count * got_dtype.itemsize
        offset = member.tell()
        if offset + nbytes != size:
            raise self.error(f"array {key!r} of shape {tuple(got_shape)} and dtype {got_dtype} "
                             f"needs {nbytes} bytes of data, but its member holds "
                             f"{size - offset}", "is damaged")
        data = member.read(nbytes + 1)  # reading to the end runs zip's CRC check
        if len(data) != nbytes:
            raise self.error(f"array {key!r} is truncated", "is damaged")
        order = "F" if fortran else "C"
        return np.frombuffer(data, dtype=got_dtype).reshape(got_shape, order=order)


# ----- writing -----

def _remove_stale_temp_files(directory: str, base: str) -> None:
    """Delete ``.<base>.<pid>.tinygrad_es-tmp`` files left by processes that were killed."""
    prefix = f".{base}."
    for name in os.listdir(directory):
        pid = name[len(prefix):-len(_TEMP_SUFFIX)]
        if not (name.startswith(prefix) and name.endswith(_TEMP_SUFFIX) and pid.isdigit()):
            continue
        if os.name != "nt" and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
                continue
            except ProcessLookupError:
                pass
            except OSError:  # exists, owned by someone else
                continue
        try:  # on Windows a file still open by a live process cannot be removed
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open a directory; its rename is already durable
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(filepath: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """``write(file)`` into a temp file next to ``filepath``, flushed, then renamed onto it.

    A crash or an exception mid-write leaves any existing ``filepath`` untouched.
    """
    filepath = os.fspath(filepath)
    directory, base = os.path.split(os.path.abspath(filepath))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {filepath!r}: directory {directory!r} does not "
                                "exist")
    _remove_stale_temp_files(directory, base)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}{_TEMP_SUFFIX}")
    try:
        os.unlink(tmp)  # ours, from a save interrupted in this process or one with our pid
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def atomic_savez(filepath: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temp file next to ``filepath``, then rename it onto ``filepath``."""
    atomic_write(filepath, lambda f: np.savez(f, **arrays))
