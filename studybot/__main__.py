from studybot.cli.main import main

main()
