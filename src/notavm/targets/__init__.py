"""One module per place a program can run: the host, a Docker container, a Vagrant VM."""
