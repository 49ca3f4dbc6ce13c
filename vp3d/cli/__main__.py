from .main import command

command()
