"""The one error type library code raises; its message always says what to do next."""


class NotavmError(Exception):
    """An expected failure. The CLI prints its message as one line and exits non-zero."""


class TargetLost(NotavmError):
    """A whole target went away (daemon stopped, VM died, SSH dropped): its remaining runs
    are recorded as failed with this message, the other targets go on."""


class DockerUnavailable(TargetLost):
    pass


class UnknownExample(NotavmError):
    pass


class BuildFailed(NotavmError):
    pass


class RunFailed(NotavmError):
    """One program on one target could not be run (timed out, could not start...)."""


class VmUnavailable(TargetLost):
    pass
