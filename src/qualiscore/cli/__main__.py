from qualiscore.cli import main

main()
