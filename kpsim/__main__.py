from kpsim.cli import main

main()
