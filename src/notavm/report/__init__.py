"""One module per output format. Reports read the results document (live or loaded from a
file) and never talk to Docker or a VM."""
