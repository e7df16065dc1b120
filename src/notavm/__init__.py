"""notavm: show, measure and report why a container is not a virtual machine."""

__version__ = "0.1.0"
