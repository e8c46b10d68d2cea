from veedor.cli import main

main()
