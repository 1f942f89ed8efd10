"""Subscription credits: the monthly renewal of credits per plan."""
