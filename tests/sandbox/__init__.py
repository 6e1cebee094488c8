"""Tests of the Intacct gateway emulator, over real HTTP on random ports."""
