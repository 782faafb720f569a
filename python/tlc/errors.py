"""The exceptions the package raises."""


class TlcError(Exception):
    """Base class of the package's errors."""


class MetadataError(TlcError):
    """The launch metadata is missing, malformed or of another version."""


class ArgumentError(TlcError, ValueError):
    """An argument the launcher refuses (the C header's CUDA_ERROR_INVALID_VALUE).

    ``argument`` names the parameter (or the dimension, or the kernel when the
    arguments together are refused); the message says why.
    """

    def __init__(self, argument: str, message: str):
        self.argument = argument
        if message.startswith(("is ", "must ")):
            text = "argument '%s' %s" % (argument, message)
        elif argument and not message.startswith(argument) and "'%s'" % argument not in message.split(":")[0]:
            text = "argument '%s': %s" % (argument, message)
        else:
            text = message
        super().__init__(text)


class CudaError(TlcError, RuntimeError):
    """A CUDA driver call failed: ``code`` is its CUresult, ``name`` its name."""

    def __init__(self, call: str, code: int, name: str = "", detail: str = ""):
        self.call, self.code, self.name = call, code, name
        super().__init__("%s failed: %s (%d)%s" % (call, name or "CUresult", code, ": " + detail if detail else ""))


class CompileError(TlcError):
    """tlc reported errors; ``stderr`` holds its diagnostics."""

    def __init__(self, message: str, stderr: str = "", returncode: int = 1):
        self.stderr, self.returncode = stderr, returncode
        super().__init__(message + ("\n" + stderr if stderr else ""))
