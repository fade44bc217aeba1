"""Field encounters: repeat stops, body-worn video missing or deleted (ids ``field.*``)."""
