"""What a solved case means: tidy tables, policy costs, shadow-price sentences,
infeasibility explanations, concentration and supply risk.
"""
