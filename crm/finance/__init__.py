"""Money: the income plan, payments received, expenses, lawyers' accruals and payouts, the cash."""
