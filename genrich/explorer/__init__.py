"""Internet Explorer (thesis ch. 2): learn what to search for to improve self-supervised features on a target set.

Modules: `concepts` (WordNet vocabulary, concept texts, embeddings), `reward_model` (the concept GPR),
`sampling` (softmax range, tiering, label-set pruning), `knn_reward` (the k-NN image reward),
`theory` (Lemma 2.1.1), `search` (caption-index and remote engines), `web` (the offline image web from
openclipart and Noto emoji), `descriptors` (App. A.3.2), `audit` (dHash leakage), `moco` (MoCo-v3, torch
augmentations, LARS), `agent` (Algorithm 1 with replay buffer and exact resume), `experiments` (`reproduce`).
"""
