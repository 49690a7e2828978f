"""(scaffolding: the letter helper fills this module)"""
