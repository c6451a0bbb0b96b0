"""Operations on a migration: each checks state first, sends, and reads back."""
