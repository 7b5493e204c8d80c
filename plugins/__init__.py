"""Built-in credit-rules plugins, registered exactly as third-party plugins are."""
