from notavm.cli import main

main()
