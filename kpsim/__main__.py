from kpsim.cli import run

run()
