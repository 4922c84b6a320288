"""The JSON API (faces layer): thin routes over the review, takedown and account services."""
