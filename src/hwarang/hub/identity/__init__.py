"""Who is who: users, accounts, refresh tokens and agencies."""
