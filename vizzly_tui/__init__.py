"""vizzly-tui: a terminal-native visual-regression workbench compatible with the Vizzly SDKs."""

__version__ = "0.1.0"
