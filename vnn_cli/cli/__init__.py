"""The `vnn` command: Click commands that parse and print (rich), each loaded only when it runs.
The library below never imports click or rich."""
