"""Built-in plugins. Each is an ordinary plugin module, registered like any installed one."""
