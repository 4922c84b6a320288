"""Sources: where observations of media come from (folders, Telegram exports, live monitors)."""
