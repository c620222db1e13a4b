"""Charts, the HTML report, the app page, fonts and the Chinese and English labels."""
