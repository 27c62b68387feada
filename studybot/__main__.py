from studybot.cli.main import run

run()
