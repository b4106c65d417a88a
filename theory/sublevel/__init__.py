"""Paths and valleys: connectivity of sublevel sets.

* `linear_paths`: paths inside sublevel sets of deep linear networks (Freeman & Bruna, arXiv:1611.01540, Prop. 2.2);
* `relu_paths`: a ReLU network whose sublevel sets are disconnected where linear ones are connected;
* `valleys`: no-spurious-valley widths for two-layer polynomial networks (Venturi, Bandeira & Bruna, arXiv:1802.06384).
"""
