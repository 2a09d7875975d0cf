from dosecalc.cli import main

main()
