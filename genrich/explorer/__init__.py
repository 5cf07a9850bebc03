"""Internet Explorer (thesis ch. 2): learn what to search for to improve self-supervised features on a target set.

Modules: `concepts` (WordNet vocabulary, concept texts, embeddings), `reward_model` (the concept GPR),
`sampling` (softmax range, tiering, label-set pruning), `knn_reward` (the k-NN image reward),
`theory` (Lemma 2.1.1), `experiments` (`reproduce` for the foundations).
"""
