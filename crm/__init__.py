"""The CRM domain of lexcrm: models, services, personal-data crypto; imports no edge package."""
